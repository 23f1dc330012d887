<?php
/**
 * The form plugins' server-side success actions, each turned into one Goalpost `form` event.
 *
 * @package Goalpost
 */

namespace Goalpost;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * One small method per form plugin, taking exactly the arguments each plugin passes
 * (Contact Form 7 5.7, WPForms 1.8, Gravity Forms 2.9). Only the form's id and title and the
 * page's URL leave WordPress: never a value the visitor typed.
 */
final class Form_Hooks {

	/**
	 * Where events go.
	 *
	 * @var Delivery
	 */
	private $delivery;

	/**
	 * @param Delivery $delivery Where events go.
	 */
	public function __construct( Delivery $delivery ) {
		$this->delivery = $delivery;
	}

	/**
	 * Registers the three actions.
	 */
	public function register(): void {
		add_action( 'wpcf7_mail_sent', array( $this, 'on_cf7_mail_sent' ), 10, 1 );
		add_action( 'wpforms_process_complete', array( $this, 'on_wpforms_process_complete' ), 10, 4 );
		add_action( 'gform_after_submission', array( $this, 'on_gform_after_submission' ), 10, 2 );
	}

	/**
	 * Contact Form 7: `do_action( 'wpcf7_mail_sent', $contact_form )`, fired only after
	 * validation, the spam check and a sent mail. The page is the submission's `url` meta.
	 *
	 * @param \WPCF7_ContactForm $contact_form The submitted form.
	 */
	public function on_cf7_mail_sent( $contact_form ): void {
		if ( ! is_object( $contact_form ) || ! method_exists( $contact_form, 'id' ) ) {
			return;
		}
		$url = '';
		if ( class_exists( 'WPCF7_Submission' ) ) {
			$submission = \WPCF7_Submission::get_instance();
			if ( $submission ) {
				$url = (string) $submission->get_meta( 'url' );
			}
		}
		$title = method_exists( $contact_form, 'title' ) ? (string) $contact_form->title() : '';
		$this->report( 'cf7', (string) $contact_form->id(), $title, $url );
	}

	/**
	 * WPForms: `do_action( 'wpforms_process_complete', $fields, $entry, $form_data, $entry_id )`,
	 * fired only for a valid, non-spam submission. `$entry_id` is always 0 in WPForms Lite, so
	 * nothing is keyed on it. The page is the `page_url` that WPForms' own form posts.
	 *
	 * @param array $fields    Processed fields (values: never read).
	 * @param array $entry     The raw posted entry (values: never read).
	 * @param array $form_data The form: `id`, `settings.form_title`.
	 * @param int   $entry_id  The stored entry (0 in Lite).
	 */
	public function on_wpforms_process_complete( $fields, $entry, $form_data, $entry_id = 0 ): void { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.FoundBeforeLastUsed
		if ( ! is_array( $form_data ) || ! isset( $form_data['id'] ) ) {
			return;
		}
		$title = isset( $form_data['settings']['form_title'] ) ? (string) $form_data['settings']['form_title'] : '';
		// WPForms checked its own token before firing the action; only the page address is read.
		$url = isset( $_POST['page_url'] ) && is_string( $_POST['page_url'] ) ? esc_url_raw( wp_unslash( $_POST['page_url'] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Missing
		$this->report( 'wpforms', (string) $form_data['id'], $title, $url );
	}

	/**
	 * Gravity Forms: `gf_do_action( array( 'gform_after_submission', $form_id ), $entry, $form )`.
	 * It fires for spam entries too (only marked `status` = `spam`): those are skipped.
	 * The page is the entry's `source_url`.
	 *
	 * @param array $entry The entry (values: never read).
	 * @param array $form  The form: `id`, `title`.
	 */
	public function on_gform_after_submission( $entry, $form ): void {
		if ( ! is_array( $entry ) || ! is_array( $form ) || ! isset( $form['id'] ) ) {
			return;
		}
		if ( isset( $entry['status'] ) && 'spam' === $entry['status'] ) {
			return;
		}
		$title = isset( $form['title'] ) ? (string) $form['title'] : '';
		$url   = isset( $entry['source_url'] ) ? (string) $entry['source_url'] : '';
		$this->report( 'gravity', (string) $form['id'], $title, $url );
	}

	/**
	 * Sends one `form` event for this submission, as the visitor who made it.
	 *
	 * @param string $plugin `cf7`, `wpforms` or `gravity`.
	 * @param string $id     The plugin's form id.
	 * @param string $title  The form's title.
	 * @param string $url    The page the form was on ('' when the plugin did not say).
	 */
	private function report( string $plugin, string $id, string $title, string $url ): void {
		if ( '' === $url ) {
			$referer = wp_get_referer();
			$url     = $referer ? $referer : home_url( '/' );
		}
		$this->delivery->send(
			Delivery::event(
				array(
					'type' => 'form',
					'url'  => esc_url_raw( $url ),
					'form' => array(
						'plugin' => $plugin,
						'id'     => $id,
						'title'  => $title,
					),
				)
			)
		);
	}
}
